//! One GeoJSON object (a Feature or a Geometry) held in memory: its members are kept as raw JSON
//! text and copied byte for byte, except `coordinates` (converted), `geometries` and `geometry`
//! (converted recursively), `bbox` (recomputed) and, on a top-level object, `crs` (replaced).

use super::super::text::Number;
use crate::error::PointError;
use crate::ops::Xyz;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt::{self, Write as _};

/// The deepest nesting of GeometryCollections accepted (a collection directly in a Feature or a
/// document is at depth 1), as for WKT lines. RFC 7946 §3.1.8 asks writers to avoid nested
/// GeometryCollections altogether, so real data stays far below this. Each level is a stack frame
/// of the converter and a re-scan of the level's text (its members are kept as raw JSON, read
/// again one level down), so the cap bounds both the stack and the work: at most
/// `MAX_COLLECTION_DEPTH + 1` scans of each byte, linear in the feature size. Deeper is
/// a malformed-object error, "GeometryCollections nested deeper than 32", before recursing.
pub const MAX_COLLECTION_DEPTH: usize = 32;

/// Converts one position: `[x, y, z]` and whether `z` was given (else it is 0 and ignored).
pub(super) type ConvertPoint<'f> = dyn FnMut(Xyz, bool) -> Result<Xyz, PointError> + 'f;

/// What happens to the positions of an object as it is walked.
pub(super) enum Positions<'a, 'f> {
    /// Each is converted as it is met (sampling, tests).
    Each(&'a mut ConvertPoint<'f>),
    /// They are collected for one batch transform of many objects, and the text gets
    /// placeholders that [`fill`] replaces with the converted numbers.
    Batch(&'a mut Batch),
}

/// Positions collected from objects for one batch transform: `[x, y, z]` (z = 0 when absent)
/// and whether each had a z.
#[derive(Debug, Default)]
pub(super) struct Batch {
    pub points: Vec<Xyz>,
    pub has_z: Vec<bool>,
}

/// Placeholders in a batch object's text, bytes that valid JSON text never holds unescaped
/// (RFC 8259 §7: control characters must be escaped in strings, and only whitespace may stand
/// between tokens — and every raw value copied was validated by serde_json).
const POSITION_2D: char = '\u{0}';
const POSITION_3D: char = '\u{1}';
/// `BBOX_START start,end,six BBOX_END`: the bbox of the positions `start..end` of the batch.
const BBOX_START: char = '\u{2}';
const BBOX_END: char = '\u{3}';

impl Positions<'_, '_> {
    /// Positions collected so far (batch mode); 0 otherwise.
    fn count(&self) -> usize {
        match self {
            Positions::Each(_) => 0,
            Positions::Batch(b) => b.points.len(),
        }
    }

    /// The batch positions `start..` collected since `start`, for a bbox placeholder.
    fn span_from(&self, start: usize) -> Option<(usize, usize)> {
        match self {
            Positions::Each(_) => None,
            Positions::Batch(b) => Some((start, b.points.len())),
        }
    }
}

/// Replaces the placeholders of `text` (an object walked with [`Positions::Batch`]) with the
/// `converted` positions of the batch (in the order they were collected, from `first`; 3D ones
/// as marked by `has_z`), and bbox placeholders with the bounds of their spans; the text and
/// the bounds of the object's own positions.
pub(super) fn fill(
    text: &str,
    converted: &[Xyz],
    has_z: &[bool],
    first: usize,
) -> (String, Bounds) {
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    let mut bounds = Bounds::default();
    let mut next = first;
    let mut rest = text;
    while let Some(at) = rest.find(|c: char| c <= BBOX_END) {
        out.push_str(&rest[..at]);
        let marker = rest[at..].chars().next().unwrap_or(POSITION_2D);
        rest = &rest[at + 1..];
        if marker == BBOX_START {
            let end = rest.find(BBOX_END).unwrap_or(rest.len());
            let mut fields = rest[..end].split(',').map(|f| f.parse::<usize>().unwrap_or(0));
            let (a, b, six) = (fields.next(), fields.next(), fields.next());
            rest = rest.get(end + 1..).unwrap_or("");
            let (a, b) = (a.unwrap_or(0), b.unwrap_or(0));
            let mut span = Bounds::default();
            for (p, &z) in
                converted.get(a..b).unwrap_or(&[]).iter().zip(has_z.get(a..b).unwrap_or(&[]))
            {
                span.add(*p, z);
            }
            out.push_str(&span.to_json(six == Some(1)).unwrap_or_default());
            continue;
        }
        let (q, z) = (converted.get(next).copied().unwrap_or([f64::NAN; 3]), marker == POSITION_3D);
        next += 1;
        bounds.add(q, z);
        let _ = write!(out, "{},{}", Number(q[0]), Number(q[1]));
        if z {
            let _ = write!(out, ",{}", Number(q[2]));
        }
    }
    out.push_str(rest);
    (out, bounds)
}

/// The members of a JSON object in input order, keys and values as raw JSON text.
pub(super) struct Members<'a>(pub Vec<(&'a RawValue, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(key) = map.next_key::<&'de RawValue>()? {
                    let value = map.next_value::<&'de RawValue>()?;
                    members.push((key, value));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

/// A key's text (the raw key is a JSON string, quotes included).
pub(super) fn key_name(key: &RawValue) -> Cow<'_, str> {
    let text = key.get();
    if !text.contains('\\') && text.len() >= 2 {
        Cow::Borrowed(&text[1..text.len() - 1])
    } else {
        Cow::Owned(serde_json::from_str::<String>(text).unwrap_or_default())
    }
}

/// A string value's text, or `None` if the value is not a string.
pub(super) fn string_value(value: &RawValue) -> Option<String> {
    serde_json::from_str::<String>(value.get()).ok()
}

/// What the `crs` member of a top-level object becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum CrsMember {
    /// Dropped (the target is EPSG:4326, RFC 7946's only CRS).
    Drop,
    /// Replaced by (or added as) this JSON value.
    Write(String),
    /// An existing `crs` member replaced by this JSON value, none added (NDJSON records).
    Replace(String),
}

/// The bounding box of converted positions.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bounds {
    min: Xyz,
    max: Xyz,
    xy: bool,
    z: bool,
}

impl Default for Bounds {
    fn default() -> Self {
        Self { min: [f64::INFINITY; 3], max: [f64::NEG_INFINITY; 3], xy: false, z: false }
    }
}

impl Bounds {
    fn add(&mut self, p: Xyz, has_z: bool) {
        self.min[0] = self.min[0].min(p[0]);
        self.min[1] = self.min[1].min(p[1]);
        self.max[0] = self.max[0].max(p[0]);
        self.max[1] = self.max[1].max(p[1]);
        self.xy = true;
        if has_z {
            self.min[2] = self.min[2].min(p[2]);
            self.max[2] = self.max[2].max(p[2]);
            self.z = true;
        }
    }

    /// Widens `self` to include `other`.
    pub(super) fn merge(&mut self, other: &Bounds) {
        for i in 0..3 {
            self.min[i] = self.min[i].min(other.min[i]);
            self.max[i] = self.max[i].max(other.max[i]);
        }
        self.xy |= other.xy;
        self.z |= other.z;
    }

    /// The `bbox` value: `[minx, miny, maxx, maxy]`, or with `six` (the input's bbox had 6
    /// numbers) and heights present `[minx, miny, minz, maxx, maxy, maxz]`; `None` if there are
    /// no positions.
    pub(super) fn to_json(self, six: bool) -> Option<String> {
        if !self.xy {
            return None;
        }
        let (a, b) = (self.min, self.max);
        Some(if six && self.z {
            format!(
                "[{},{},{},{},{},{}]",
                Number(a[0]),
                Number(a[1]),
                Number(a[2]),
                Number(b[0]),
                Number(b[1]),
                Number(b[2])
            )
        } else {
            format!("[{},{},{},{}]", Number(a[0]), Number(a[1]), Number(b[0]), Number(b[1]))
        })
    }
}

/// Whether a `bbox` value has 6 numbers (3D).
pub(super) fn bbox_is_3d(value: &RawValue) -> bool {
    serde_json::from_str::<Vec<&RawValue>>(value.get()).is_ok_and(|v| v.len() == 6)
}

/// Why an object could not be converted.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum ObjectError {
    /// Its structure is not GeoJSON.
    Malformed(String),
    /// A point could not be converted.
    Point(PointError),
}

impl From<PointError> for ObjectError {
    fn from(e: PointError) -> Self {
        ObjectError::Point(e)
    }
}

/// A converted object.
#[derive(Debug, Clone, Default)]
pub(super) struct Converted {
    /// The object as compact JSON.
    pub text: String,
    /// The bounds of its converted positions.
    pub bounds: Bounds,
    /// Positions converted.
    pub vertices: u64,
}

/// The kind of a GeoJSON object, by its `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    FeatureCollection,
    Feature,
    /// A geometry; the nesting depth of its `coordinates` (0 = one position), or `None` for a
    /// GeometryCollection.
    Geometry(&'static str, Option<u8>),
}

/// The kind named by a `type` string.
pub(super) fn kind_of(type_name: &str) -> Option<Kind> {
    Some(match type_name {
        "FeatureCollection" => Kind::FeatureCollection,
        "Feature" => Kind::Feature,
        "Point" => Kind::Geometry("Point", Some(0)),
        "MultiPoint" => Kind::Geometry("MultiPoint", Some(1)),
        "LineString" => Kind::Geometry("LineString", Some(1)),
        "MultiLineString" => Kind::Geometry("MultiLineString", Some(2)),
        "Polygon" => Kind::Geometry("Polygon", Some(2)),
        "MultiPolygon" => Kind::Geometry("MultiPolygon", Some(3)),
        "GeometryCollection" => Kind::Geometry("GeometryCollection", None),
        _ => return None,
    })
}

/// The `type` of an object's members, decoded.
pub(super) fn type_of(members: &[(&RawValue, &RawValue)]) -> Option<String> {
    members.iter().find(|(k, _)| key_name(k) == "type").and_then(|(_, v)| string_value(v))
}

/// The `id` member's raw text, for locations (`"A-17"` with its quotes, or `17`).
pub(super) fn id_of(members: &[(&RawValue, &RawValue)]) -> Option<String> {
    members.iter().find(|(k, _)| key_name(k) == "id").map(|(_, v)| snippet(v.get()))
}

/// At most 60 characters of `text`, for messages.
pub(super) fn snippet(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// Converts a Feature or a Geometry (`top`: the object is a whole document or NDJSON record, so
/// its `crs` member is replaced by `crs`, or added before the geometry if `crs` says so).
pub(super) fn convert_object(
    members: &[(&RawValue, &RawValue)],
    top: Option<&CrsMember>,
    convert: &mut Positions<'_, '_>,
) -> Result<Converted, ObjectError> {
    let type_name = type_of(members);
    match type_name.as_deref().and_then(kind_of) {
        Some(Kind::Feature) => convert_feature(members, top, convert),
        Some(Kind::Geometry(name, depth)) => {
            convert_geometry(members, name, depth, 0, top, convert)
        }
        Some(Kind::FeatureCollection) => Err(ObjectError::Malformed(
            "a FeatureCollection is not allowed here (expected a Feature or a geometry)".into(),
        )),
        None => Err(ObjectError::Malformed(match type_name {
            Some(t) => format!("unknown GeoJSON type \"{t}\""),
            None if members.iter().any(|(k, _)| key_name(k) == "geometry") => {
                "a Feature without \"type\": \"Feature\"".into()
            }
            None => "an object without a GeoJSON \"type\" member".into(),
        })),
    }
}

/// An output member: a raw value, a converted one, or a bbox filled in at the end.
enum Part<'a> {
    Value(&'a str, Cow<'a, str>),
    Bbox(&'a str, bool),
}

/// Keeps the `crs` member policy of a top-level object while its members are walked.
struct CrsPolicy<'c> {
    member: Option<&'c CrsMember>,
    written: bool,
}

impl<'c> CrsPolicy<'c> {
    /// What to write for an input `crs` member.
    fn replace<'a>(&mut self, parts: &mut Vec<Part<'a>>, key: &'a str, value: &'a str)
    where
        'c: 'a,
    {
        match self.member {
            None => parts.push(Part::Value(key, Cow::Borrowed(value))),
            Some(CrsMember::Drop) => {}
            Some(CrsMember::Write(v) | CrsMember::Replace(v)) => {
                if !self.written {
                    parts.push(Part::Value(key, Cow::Borrowed(v.as_str())));
                    self.written = true;
                }
            }
        }
    }
    /// Adds the `crs` member (before the geometry, or at the end) if it is due and not written.
    fn add<'a>(&mut self, parts: &mut Vec<Part<'a>>)
    where
        'c: 'a,
    {
        if let Some(CrsMember::Write(v)) = self.member {
            if !self.written {
                parts.push(Part::Value("\"crs\"", Cow::Borrowed(v.as_str())));
                self.written = true;
            }
        }
    }
}

/// The object's text from its parts; a bbox from `bounds`, or in batch mode as a placeholder
/// for the positions `span` (dropped, as without positions, if the span is empty).
fn render(parts: &[Part<'_>], bounds: &Bounds, span: Option<(usize, usize)>) -> String {
    let mut out = String::from("{");
    let mut first = true;
    for part in parts {
        let (key, value) = match (part, span) {
            (Part::Value(k, v), _) => (*k, Cow::Borrowed(v.as_ref())),
            (Part::Bbox(k, six), Some((a, b))) if b > a => {
                (*k, Cow::Owned(format!("{BBOX_START}{a},{b},{}{BBOX_END}", u8::from(*six))))
            }
            (Part::Bbox(..), Some(_)) => continue,
            (Part::Bbox(k, six), None) => match bounds.to_json(*six) {
                Some(b) => (*k, Cow::Owned(b)),
                None => continue, // no positions: a bbox would be meaningless
            },
        };
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(key);
        out.push(':');
        out.push_str(&value);
    }
    out.push('}');
    out
}

fn convert_feature(
    members: &[(&RawValue, &RawValue)],
    top: Option<&CrsMember>,
    convert: &mut Positions<'_, '_>,
) -> Result<Converted, ObjectError> {
    let start = convert.count();
    let mut crs = CrsPolicy { member: top, written: false };
    let mut parts = Vec::with_capacity(members.len() + 1);
    let mut bounds = Bounds::default();
    let mut vertices = 0;
    for (key, value) in members {
        let (k, v) = (key.get(), value.get());
        match key_name(key).as_ref() {
            "geometry" => {
                crs.add(&mut parts);
                if v == "null" {
                    parts.push(Part::Value(k, Cow::Borrowed(v)));
                    continue;
                }
                let geometry: Members<'_> = scan(v).map_err(|_| {
                    ObjectError::Malformed(format!(
                        "\"geometry\" must be an object or null, found {}",
                        snippet(v)
                    ))
                })?;
                let type_name = type_of(&geometry.0);
                let Some(Kind::Geometry(name, depth)) = type_name.as_deref().and_then(kind_of)
                else {
                    return Err(ObjectError::Malformed(match type_name {
                        Some(t) => format!("\"geometry\" has an unknown type \"{t}\""),
                        None => "\"geometry\" has no \"type\"".into(),
                    }));
                };
                let g = convert_geometry(&geometry.0, name, depth, 0, None, convert)?;
                bounds.merge(&g.bounds);
                vertices += g.vertices;
                parts.push(Part::Value(k, Cow::Owned(g.text)));
            }
            "bbox" => parts.push(Part::Bbox(k, bbox_is_3d(value))),
            "crs" if top.is_some() => crs.replace(&mut parts, k, v),
            _ => parts.push(Part::Value(k, Cow::Borrowed(v))),
        }
    }
    crs.add(&mut parts);
    let text = render(&parts, &bounds, convert.span_from(start));
    Ok(Converted { text, bounds, vertices })
}

/// Converts a geometry inside `nesting` GeometryCollections (0 at the top of a Feature or a
/// document); `depth` is its coordinates' nesting (`None`: a GeometryCollection).
fn convert_geometry(
    members: &[(&RawValue, &RawValue)],
    name: &'static str,
    depth: Option<u8>,
    nesting: usize,
    top: Option<&CrsMember>,
    convert: &mut Positions<'_, '_>,
) -> Result<Converted, ObjectError> {
    let start = convert.count();
    if depth.is_none() && nesting >= MAX_COLLECTION_DEPTH {
        return Err(ObjectError::Malformed(format!(
            "GeometryCollections nested deeper than {MAX_COLLECTION_DEPTH}"
        )));
    }
    let mut crs = CrsPolicy { member: top, written: false };
    let mut parts = Vec::with_capacity(members.len() + 1);
    let mut bounds = Bounds::default();
    let mut vertices = 0;
    let mut has_payload = false;
    for (key, value) in members {
        let (k, v) = (key.get(), value.get());
        match (key_name(key).as_ref(), depth) {
            ("coordinates", Some(depth)) => {
                crs.add(&mut parts);
                has_payload = true;
                let mut out = String::with_capacity(v.len());
                let mut walk =
                    Walk { name, out: &mut out, bounds: &mut bounds, vertices: 0, convert };
                walk.coordinates(value, depth, true)?;
                vertices += walk.vertices;
                parts.push(Part::Value(k, Cow::Owned(out)));
            }
            ("geometries", None) => {
                crs.add(&mut parts);
                has_payload = true;
                let items: Vec<&RawValue> = scan(v).map_err(|_| {
                    ObjectError::Malformed(format!(
                        "GeometryCollection \"geometries\" must be an array of geometries, \
                         found {}",
                        snippet(v)
                    ))
                })?;
                let mut out = String::with_capacity(v.len());
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    let member: Members<'_> = scan(item.get()).map_err(|_| {
                        ObjectError::Malformed(format!(
                            "GeometryCollection member {} must be a geometry object, found {}",
                            i + 1,
                            snippet(item.get())
                        ))
                    })?;
                    let type_name = type_of(&member.0);
                    let Some(Kind::Geometry(n, d)) = type_name.as_deref().and_then(kind_of) else {
                        return Err(ObjectError::Malformed(format!(
                            "GeometryCollection member {} is not a geometry (type {})",
                            i + 1,
                            type_name.map_or_else(|| "missing".into(), |t| format!("\"{t}\""))
                        )));
                    };
                    let g = convert_geometry(&member.0, n, d, nesting + 1, None, convert)?;
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&g.text);
                    bounds.merge(&g.bounds);
                    vertices += g.vertices;
                }
                out.push(']');
                parts.push(Part::Value(k, Cow::Owned(out)));
            }
            ("bbox", _) => parts.push(Part::Bbox(k, bbox_is_3d(value))),
            ("crs", _) if top.is_some() => crs.replace(&mut parts, k, v),
            _ => parts.push(Part::Value(k, Cow::Borrowed(v))),
        }
    }
    if !has_payload {
        return Err(ObjectError::Malformed(if depth.is_some() {
            format!("{name} without \"coordinates\"")
        } else {
            "GeometryCollection without \"geometries\"".into()
        }));
    }
    crs.add(&mut parts);
    let text = render(&parts, &bounds, convert.span_from(start));
    Ok(Converted { text, bounds, vertices })
}

/// Walks a `coordinates` value, converting positions and writing the result.
struct Walk<'w, 'a, 'f> {
    name: &'static str,
    out: &'w mut String,
    bounds: &'w mut Bounds,
    vertices: u64,
    convert: &'w mut Positions<'a, 'f>,
}

impl Walk<'_, '_, '_> {
    fn coordinates(&mut self, value: &RawValue, depth: u8, root: bool) -> Result<(), ObjectError> {
        let text = value.get();
        let items: Vec<&RawValue> = scan(text).map_err(|_| self.expected(depth, text))?;
        if depth == 0 {
            return self.position(&items, text, root);
        }
        if items.iter().any(|item| !item.get().starts_with('[')) {
            return Err(self.expected(depth, text)); // e.g. a Polygon ring that is one position
        }
        self.out.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.coordinates(item, depth - 1, false)?;
        }
        self.out.push(']');
        Ok(())
    }

    fn expected(&self, depth: u8, found: &str) -> ObjectError {
        let what = match depth {
            0 => "a position [x, y] or [x, y, z]",
            1 => "an array of positions",
            2 => "an array of arrays of positions",
            _ => "an array of arrays of arrays of positions",
        };
        ObjectError::Malformed(format!(
            "{} coordinates: expected {what}, found {}",
            self.name,
            snippet(found)
        ))
    }

    fn position(&mut self, items: &[&RawValue], text: &str, root: bool) -> Result<(), ObjectError> {
        if items.is_empty() && root {
            self.out.push_str("[]"); // an empty Point
            return Ok(());
        }
        if items.len() < 2 {
            return Err(ObjectError::Malformed(format!(
                "{} coordinates: a position needs at least 2 numbers, found {}",
                self.name,
                snippet(text)
            )));
        }
        let mut p = [0.0; 3];
        for (i, item) in items.iter().take(3).enumerate() {
            p[i] = number(item.get()).ok_or_else(|| {
                ObjectError::Malformed(format!(
                    "{} coordinates: {} is not a number in position {}",
                    self.name,
                    snippet(item.get()),
                    snippet(text)
                ))
            })?;
        }
        let has_z = items.len() >= 3;
        self.vertices += 1;
        match self.convert {
            Positions::Each(convert) => {
                let q = convert(p, has_z)?;
                self.bounds.add(q, has_z);
                let _ = write!(self.out, "[{},{}", Number(q[0]), Number(q[1]));
                if has_z {
                    let _ = write!(self.out, ",{}", Number(q[2]));
                }
            }
            Positions::Batch(batch) => {
                batch.points.push(p);
                batch.has_z.push(has_z);
                self.out.push('[');
                self.out.push(if has_z { POSITION_3D } else { POSITION_2D });
            }
        }
        for extra in items.iter().skip(3) {
            self.out.push(',');
            self.out.push_str(extra.get());
        }
        self.out.push(']');
        Ok(())
    }
}

/// A JSON number's value (`1e400` reads as infinity, which the transformer refuses as a point).
fn number(text: &str) -> Option<f64> {
    let first = text.as_bytes().first()?;
    if *first == b'-' || first.is_ascii_digit() {
        text.parse().ok()
    } else {
        None
    }
}

/// Collects members of `text` (an object) or the serde_json error's message.
pub(super) fn parse_members(text: &str) -> Result<Members<'_>, serde_json::Error> {
    scan(text)
}

/// `serde_json::from_str` for the values this module reads (members and arrays of raw values):
/// one scan of `text`. Tests count the bytes scanned.
fn scan<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, serde_json::Error> {
    #[cfg(test)]
    tests::SCANNED.with(|n| n.set(n.get() + text.len()));
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    thread_local! {
        /// Bytes of JSON text scanned by [`scan`] on this thread.
        pub(super) static SCANNED: Cell<usize> = const { Cell::new(0) };
    }

    /// A Point inside `levels` nested GeometryCollections.
    fn nested(levels: usize) -> String {
        let mut text = String::from(r#"{"type":"Point","coordinates":[1,2]}"#);
        for _ in 0..levels {
            text = format!(r#"{{"type":"GeometryCollection","geometries":[{text}]}}"#);
        }
        text
    }

    #[test]
    fn collection_nesting_is_capped_and_each_byte_scanned_a_bounded_number_of_times() {
        // Each level re-scans its subtree twice (the array, then each member): the work is at
        // most 2 * (levels + 1) scans of the text, and the levels are capped, so it is linear
        // in the size. Before the cap, 3,000 levels meant ~6,000 scans of a 210 kB text (and a
        // stack overflow on the way).
        let bound = |len: usize| 2 * (MAX_COLLECTION_DEPTH + 1) * len;
        let text = nested(MAX_COLLECTION_DEPTH);
        SCANNED.with(|n| n.set(0));
        let c = run(&text).unwrap();
        assert_eq!(c.vertices, 1);
        assert_eq!(c.text, text.replace("[1,2]", "[2,4]"));
        let scanned = SCANNED.with(Cell::get);
        assert!(scanned <= bound(text.len()), "{scanned} bytes scanned for {}", text.len());
        for levels in [MAX_COLLECTION_DEPTH + 1, 3000] {
            let text = nested(levels);
            SCANNED.with(|n| n.set(0));
            match run(&text) {
                Err(ObjectError::Malformed(m)) => {
                    assert_eq!(m, "GeometryCollections nested deeper than 32", "{levels}")
                }
                other => panic!("{levels} levels: {other:?}"),
            }
            let scanned = SCANNED.with(Cell::get);
            assert!(scanned <= bound(text.len()), "{levels}: {scanned} for {}", text.len());
        }
    }

    fn shift(p: Xyz, _z: bool) -> Result<Xyz, PointError> {
        Ok([p[0] + 1.0, p[1] + 2.0, p[2] + 3.0])
    }

    fn run(text: &str) -> Result<Converted, ObjectError> {
        let m = parse_members(text).unwrap();
        convert_object(&m.0, None, &mut Positions::Each(&mut shift))
    }

    #[test]
    fn a_batch_walk_filled_gives_the_one_by_one_text_bounds_and_count() {
        // bboxes before and after their positions, nested collections, empty points, extra
        // ordinates, 2D and 3D mixed, a second object in the same batch after the first.
        let texts = [
            r#"{"type":"Feature","bbox":[0,0,0,0,0,0],"properties":{"名称":"路"},"geometry":{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[]},{"type":"GeometryCollection","bbox":[9,9,9,9,9,9],"geometries":[{"type":"LineString","coordinates":[[0,0,1],[1.5,1,2,"m"]]}]},{"type":"Point","coordinates":[7,8],"bbox":[1,1,1,1]}]}}"#,
            r#"{"type":"Polygon","coordinates":[[[1,2],[3,4],[5,6],[1,2]]],"bbox":[0,0,0,0,0,0]}"#,
            r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[]},"bbox":[1,2,3,4]}"#,
        ];
        let mut batch = Batch::default();
        let mut walked = Vec::new();
        for text in texts {
            let m = parse_members(text).unwrap();
            let first = batch.points.len();
            let c = convert_object(&m.0, None, &mut Positions::Batch(&mut batch)).unwrap();
            walked.push((c, first));
        }
        let converted: Vec<Xyz> =
            batch.points.iter().zip(&batch.has_z).map(|(p, z)| shift(*p, *z).unwrap()).collect();
        for ((c, first), text) in walked.into_iter().zip(texts) {
            let (filled, bounds) = fill(&c.text, &converted, &batch.has_z, first);
            let one = run(text).unwrap();
            assert_eq!(filled, one.text);
            assert_eq!(c.vertices, one.vertices);
            assert_eq!(bounds.to_json(true), one.bounds.to_json(true));
        }
    }

    #[test]
    fn every_geometry_type_keeps_members_and_extra_ordinates() {
        let c = run(r#"{"type":"Feature","id":"A-1","bbox":[0,0,0,0],"properties":{"名称":"路 1.000"},"geometry":{"type":"MultiPolygon","x":1,"coordinates":[[[[1,2],[3,4,5,"m",7.10]]]]}}"#).unwrap();
        assert_eq!(
            c.text,
            r#"{"type":"Feature","id":"A-1","bbox":[2,4,4,6],"properties":{"名称":"路 1.000"},"geometry":{"type":"MultiPolygon","x":1,"coordinates":[[[[2,4],[4,6,8,"m",7.10]]]]}}"#
        );
        assert_eq!(c.vertices, 2);
        let c = run(r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[]},{"type":"GeometryCollection","bbox":[9,9,9,9,9,9],"geometries":[{"type":"LineString","coordinates":[[0,0,1],[1,1,2]]}]}]}"#).unwrap();
        assert_eq!(
            c.text,
            r#"{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[]},{"type":"GeometryCollection","bbox":[1,2,4,2,3,5],"geometries":[{"type":"LineString","coordinates":[[1,2,4],[2,3,5]]}]}]}"#
        );
    }

    #[test]
    fn structure_errors() {
        for bad in [
            r#"{"type":"Polygon","coordinates":[[1,2],[3,4]]}"#,
            r#"{"type":"Point","coordinates":[1]}"#,
            r#"{"type":"Point","coordinates":[1,"2"]}"#,
            r#"{"type":"LineString","coordinates":3}"#,
            r#"{"type":"Circle","coordinates":[1,2]}"#,
            r#"{"type":"Point"}"#,
            r#"{"type":"Feature","geometry":[1]}"#,
        ] {
            assert!(matches!(run(bad), Err(ObjectError::Malformed(_))), "{bad}");
        }
    }
}
