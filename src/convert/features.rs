//! The common feature model of conversions between formats (`convert a.shp -o b.geojson`): a
//! [`Feature`] is an optional [`Geometry`] and one attribute [`Value`] per field of the
//! dataset's [`Schema`]. A format that converts into other formats has a reader that produces
//! features from its files and a writer that consumes them (see [`cross`](super::cross)); the
//! same-format conversions never go through this model (they rewrite coordinates in place and
//! keep every other byte).
//!
//! **Geometries** are the seven simple-feature types with x, y and, for a geometry with heights,
//! z. A geometry is 2D or 3D as a whole ([`Geometry::has_z`]): a 2D geometry is written back
//! without z, a 3D one with its (possibly converted) z — a height is never invented or dropped.
//! Coordinates are `[x, y, z]` (x = easting or longitude, y = northing or latitude), z = 0 in a
//! 2D geometry. M values are not part of the model (a reader that meets them says so).
//!
//! **Attributes** are typed: integer (64-bit), real (`f64`), text, boolean, date (text
//! `YYYY-MM-DD`), or null in any field. A reader decides each field's type once for the whole
//! dataset (see the format's reader), so writers can declare typed columns before the first
//! feature.

use super::Failure;
use std::fmt;
use std::io::Read as IoRead;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A reader that counts the bytes read through it, for [`FeatureReader::consumed`]: wrap the
/// input file under its `BufReader` and keep the [`Counter`] in the feature reader. The count
/// runs ahead of the features by at most the buffer's size and ends at the file's size.
pub(crate) struct Counted<R> {
    inner: R,
    count: Counter,
}

/// The bytes a [`Counted`] reader has read so far.
#[derive(Clone, Default)]
pub(crate) struct Counter(Arc<AtomicU64>);

impl Counter {
    /// Bytes read so far.
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl<R> Counted<R> {
    /// `inner`, counted, and its counter.
    pub(crate) fn new(inner: R) -> (Self, Counter) {
        let count = Counter::default();
        (Counted { inner, count: count.clone() }, count)
    }
}

impl<R: IoRead> IoRead for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.0.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// A coordinate `[x, y, z]`; z = 0 in a geometry without heights.
pub type Coord = [f64; 3];

/// The shape of a geometry: the simple-feature types (OGC 06-103r4).
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// One position.
    Point(Coord),
    /// A line through the positions.
    LineString(Vec<Coord>),
    /// Rings: the exterior first, then the holes; each closed (first = last position).
    Polygon(Vec<Vec<Coord>>),
    /// Positions.
    MultiPoint(Vec<Coord>),
    /// Lines.
    MultiLineString(Vec<Vec<Coord>>),
    /// Polygons.
    MultiPolygon(Vec<Vec<Vec<Coord>>>),
    /// Geometries of any type.
    GeometryCollection(Vec<Shape>),
}

/// The type of a [`Shape`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GeometryKind {
    /// [`Shape::Point`].
    Point,
    /// [`Shape::LineString`].
    LineString,
    /// [`Shape::Polygon`].
    Polygon,
    /// [`Shape::MultiPoint`].
    MultiPoint,
    /// [`Shape::MultiLineString`].
    MultiLineString,
    /// [`Shape::MultiPolygon`].
    MultiPolygon,
    /// [`Shape::GeometryCollection`].
    GeometryCollection,
}

impl GeometryKind {
    /// The GeoJSON name: `"Point"`, `"MultiPolygon"`, ...
    pub fn name(self) -> &'static str {
        match self {
            GeometryKind::Point => "Point",
            GeometryKind::LineString => "LineString",
            GeometryKind::Polygon => "Polygon",
            GeometryKind::MultiPoint => "MultiPoint",
            GeometryKind::MultiLineString => "MultiLineString",
            GeometryKind::MultiPolygon => "MultiPolygon",
            GeometryKind::GeometryCollection => "GeometryCollection",
        }
    }

    /// The 2D WKB type code (1 = Point ... 7 = GeometryCollection).
    pub fn wkb_code(self) -> u32 {
        match self {
            GeometryKind::Point => 1,
            GeometryKind::LineString => 2,
            GeometryKind::Polygon => 3,
            GeometryKind::MultiPoint => 4,
            GeometryKind::MultiLineString => 5,
            GeometryKind::MultiPolygon => 6,
            GeometryKind::GeometryCollection => 7,
        }
    }

    /// The kind of a 2D WKB type code (1 = Point ... 7 = GeometryCollection); `None` for any
    /// other code.
    pub fn from_wkb_code(code: u32) -> Option<GeometryKind> {
        Some(match code {
            1 => GeometryKind::Point,
            2 => GeometryKind::LineString,
            3 => GeometryKind::Polygon,
            4 => GeometryKind::MultiPoint,
            5 => GeometryKind::MultiLineString,
            6 => GeometryKind::MultiPolygon,
            7 => GeometryKind::GeometryCollection,
            _ => return None,
        })
    }
}

impl Shape {
    /// The shape's type.
    pub fn kind(&self) -> GeometryKind {
        match self {
            Shape::Point(_) => GeometryKind::Point,
            Shape::LineString(_) => GeometryKind::LineString,
            Shape::Polygon(_) => GeometryKind::Polygon,
            Shape::MultiPoint(_) => GeometryKind::MultiPoint,
            Shape::MultiLineString(_) => GeometryKind::MultiLineString,
            Shape::MultiPolygon(_) => GeometryKind::MultiPolygon,
            Shape::GeometryCollection(_) => GeometryKind::GeometryCollection,
        }
    }

    /// Calls `f` on every position, in order.
    pub fn for_each(&self, f: &mut impl FnMut(&Coord)) {
        match self {
            Shape::Point(c) => f(c),
            Shape::LineString(cs) | Shape::MultiPoint(cs) => cs.iter().for_each(f),
            Shape::Polygon(rings) | Shape::MultiLineString(rings) => {
                rings.iter().flatten().for_each(f)
            }
            Shape::MultiPolygon(polygons) => polygons.iter().flatten().flatten().for_each(f),
            Shape::GeometryCollection(shapes) => shapes.iter().for_each(|s| s.for_each(f)),
        }
    }

    /// Calls `f` on every position, in the order of [`for_each`](Self::for_each).
    pub fn for_each_mut(&mut self, f: &mut impl FnMut(&mut Coord)) {
        match self {
            Shape::Point(c) => f(c),
            Shape::LineString(cs) | Shape::MultiPoint(cs) => cs.iter_mut().for_each(f),
            Shape::Polygon(rings) | Shape::MultiLineString(rings) => {
                rings.iter_mut().flatten().for_each(f)
            }
            Shape::MultiPolygon(polygons) => polygons.iter_mut().flatten().flatten().for_each(f),
            Shape::GeometryCollection(shapes) => shapes.iter_mut().for_each(|s| s.for_each_mut(f)),
        }
    }

    /// The number of positions.
    pub fn vertices(&self) -> usize {
        let mut n = 0;
        self.for_each(&mut |_| n += 1);
        n
    }
}

/// A geometry: its shape and whether its positions have heights.
#[derive(Debug, Clone, PartialEq)]
pub struct Geometry {
    /// The shape.
    pub shape: Shape,
    /// Whether the positions have z (all of them); otherwise their z is 0 and not written.
    pub has_z: bool,
}

/// An attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// No value (an empty CSV cell, a JSON `null`, an SQL `NULL`, a blank dBASE field).
    Null,
    /// A 64-bit integer.
    Integer(i64),
    /// A real number.
    Real(f64),
    /// Text.
    Text(String),
    /// A boolean.
    Boolean(bool),
    /// A date, as text `YYYY-MM-DD`.
    Date(String),
}

impl Value {
    /// Whether the value is [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl fmt::Display for Value {
    /// The value as text: nothing for null, integers in decimal, reals in the shortest
    /// round-trip form, `true`/`false`, text and dates as they are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Real(r) if r.is_finite() => write!(f, "{}", super::text::Number(*r)),
            Value::Real(r) => write!(f, "{r}"),
            Value::Text(t) | Value::Date(t) => f.write_str(t),
            Value::Boolean(b) => write!(f, "{b}"),
        }
    }
}

/// The type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// 64-bit integers.
    Integer,
    /// Real numbers.
    Real,
    /// Text (also a field whose values are all null).
    Text,
    /// Booleans.
    Boolean,
    /// Dates (`YYYY-MM-DD`).
    Date,
}

impl FieldType {
    /// The type's name in messages: `integer`, `real`, `text`, `boolean`, `date`.
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Integer => "integer",
            FieldType::Real => "real",
            FieldType::Text => "text",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
        }
    }

    /// The type of a field holding values of types `self` and `other`: the same type, integer
    /// with real is real, anything else text.
    pub fn unify(self, other: FieldType) -> FieldType {
        match (self, other) {
            (a, b) if a == b => a,
            (FieldType::Integer, FieldType::Real) | (FieldType::Real, FieldType::Integer) => {
                FieldType::Real
            }
            _ => FieldType::Text,
        }
    }

    /// `value` as a value of a field of this type: integers widen to reals, anything goes to
    /// text as its text ([`Value`]'s `Display`); null stays null.
    pub fn coerce(self, value: Value) -> Value {
        match (self, value) {
            (_, Value::Null) => Value::Null,
            (FieldType::Real, Value::Integer(i)) => Value::Real(i as f64),
            (FieldType::Text, Value::Text(t)) => Value::Text(t),
            (FieldType::Text, v) => Value::Text(v.to_string()),
            (_, v) => v,
        }
    }

    /// The type of `value` (`None` for null).
    pub fn of(value: &Value) -> Option<FieldType> {
        Some(match value {
            Value::Null => return None,
            Value::Integer(_) => FieldType::Integer,
            Value::Real(_) => FieldType::Real,
            Value::Text(_) => FieldType::Text,
            Value::Boolean(_) => FieldType::Boolean,
            Value::Date(_) => FieldType::Date,
        })
    }
}

/// A field: its name and type.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The name, as the input spells it.
    pub name: String,
    /// The type.
    pub kind: FieldType,
}

/// What a dataset holds: its fields, and the geometry types its features have.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    /// The fields, in the input's order; [`Feature::attributes`] has one value per field.
    pub fields: Vec<Field>,
    /// The geometry types met, each once, in the order of their first feature.
    pub kinds: Vec<GeometryKind>,
    /// Whether any geometry has z.
    pub has_z: bool,
}

impl Schema {
    /// Renames a field whose name an earlier field has to `name_2`, `name_3`, ... (a field name
    /// is a key in the writers); one warning per renamed field, naming its input column as
    /// `column(i)` gives it (e.g. `3`, or the sheet column `C`).
    pub(crate) fn rename_repeated(&mut self, column: impl Fn(usize) -> String) -> Vec<String> {
        let mut renamed = Vec::new();
        for i in 0..self.fields.len() {
            let (before, rest) = self.fields.split_at_mut(i);
            let Some(f) = rest.first_mut() else { continue };
            let taken = |n: &str| before.iter().any(|b| b.name == n);
            if taken(&f.name) {
                let mut k = 2;
                while taken(&format!("{}_{k}", f.name)) {
                    k += 1;
                }
                let new = format!("{}_{k}", f.name);
                renamed.push(format!(
                    "the header repeats the column name '{}': its column {} is the attribute \
                     '{new}'",
                    f.name,
                    column(i)
                ));
                f.name = new;
            }
        }
        renamed
    }

    /// Notes a geometry's type and heights.
    pub fn add_geometry(&mut self, g: &Geometry) {
        let kind = g.shape.kind();
        if !self.kinds.contains(&kind) {
            self.kinds.push(kind);
        }
        self.has_z |= g.has_z;
    }

    /// Whether every geometry is a point.
    pub fn points_only(&self) -> bool {
        self.kinds.iter().all(|k| *k == GeometryKind::Point)
    }
}

/// One feature.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// Where it is in the input, in the input's own terms (`line 12`, `feature 5`,
    /// `record 3`, `table parcels, fid 42`), for failures.
    pub location: String,
    /// The geometry; `None` for a feature without one.
    pub geometry: Option<Geometry>,
    /// One value per field of the schema.
    pub attributes: Vec<Value>,
}

/// What a reader yields: a feature, or a feature that cannot be read (a coordinate that is not
/// a number, ...), which fails like a point that cannot be converted.
pub(crate) type Read = Result<Feature, Failure>;

/// A format's reader for conversions between formats: the schema of the whole input (known
/// before the first feature, e.g. from a first pass), then the features one by one, in order.
pub(crate) trait FeatureReader {
    /// The input's schema.
    fn schema(&self) -> &Schema;
    /// The next feature, `None` at the end. Errors: I/O, malformed input (the conversion
    /// stops).
    fn next(&mut self) -> Result<Option<Read>, super::ConvertError>;
    /// Things the user should know (e.g. members not carried), taken once at the end.
    fn warnings(&mut self) -> Vec<String> {
        Vec::new()
    }
    /// How much of the input the features returned so far stand for, in bytes of the main
    /// file (the unit of [`Progress::start`](super::Progress::start)'s total), for the progress
    /// bar; 0 by default (the bar then moves only at the end).
    fn consumed(&self) -> u64 {
        0
    }
}

/// Whether `text` is a date `YYYY-MM-DD` (month 01–12, day 01–31), as [`Value::Date`] holds.
pub(crate) fn is_date(text: &[u8]) -> bool {
    let [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = *text else { return false };
    let digits = [y1, y2, y3, y4, m1, m2, d1, d2];
    if !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let two = |a: u8, b: u8| (a - b'0') * 10 + (b - b'0');
    (1..=12).contains(&two(m1, m2)) && (1..=31).contains(&two(d1, d2))
}

/// A format's writer for conversions between formats: created with the schema, given the
/// converted features chunk by chunk, in order, and finished (committed) only if the whole
/// conversion succeeded; dropped unfinished, it leaves nothing behind.
pub(crate) trait FeatureWriter {
    /// Writes converted features (those that failed are already left out). Errors: I/O,
    /// features the format cannot hold (the conversion stops).
    fn write(&mut self, features: &[Feature]) -> Result<(), super::ConvertError>;
    /// Completes the output and moves it into place; pushes the final paths and any warnings
    /// into `report`.
    fn finish(
        self: Box<Self>,
        report: &mut super::ConvertReport,
    ) -> Result<(), super::ConvertError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_yyyy_mm_dd() {
        assert!(is_date(b"2024-02-29"));
        assert!(is_date(b"1954-12-31"));
        for not in ["2024-13-01", "2024-00-10", "2024-01-32", "2024/01/05", "24-01-05", "2024-1-5"]
        {
            assert!(!is_date(not.as_bytes()), "{not}");
        }
    }

    #[test]
    fn types_unify_and_values_coerce() {
        assert_eq!(FieldType::Integer.unify(FieldType::Real), FieldType::Real);
        assert_eq!(FieldType::Boolean.unify(FieldType::Integer), FieldType::Text);
        assert_eq!(FieldType::Real.coerce(Value::Integer(3)), Value::Real(3.0));
        assert_eq!(FieldType::Text.coerce(Value::Real(0.1)), Value::Text("0.1".into()));
        assert_eq!(FieldType::Text.coerce(Value::Null), Value::Null);
    }

    #[test]
    fn positions_are_walked_in_order() {
        let mut s = Shape::MultiPolygon(vec![vec![vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]]]);
        s.for_each_mut(&mut |c| c[2] = c[0] + 1.0);
        let mut zs = Vec::new();
        s.for_each(&mut |c| zs.push(c[2]));
        assert_eq!(zs, [1.0, 2.0]);
        assert_eq!(s.vertices(), 2);
    }
}
