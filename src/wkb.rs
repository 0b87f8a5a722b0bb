//! Well-known binary geometries (OGC 06-103r4 simple features, ISO 13249-3 and the GeoPackage
//! curve extensions): coordinates converted in place, every other byte kept.
//!
//! Supported: both byte orders (and mixed orders between the parts of a collection); the 2D
//! codes 1–17 (Point, LineString, Polygon, MultiPoint, MultiLineString, MultiPolygon,
//! GeometryCollection, CircularString, CompoundCurve, CurvePolygon, MultiCurve, MultiSurface,
//! PolyhedralSurface, TIN, Triangle); their ISO Z / M / ZM variants (+1000, +2000, +3000) and the
//! extended (EWKB) Z / M / SRID flags (`0x80000000`, `0x40000000`, `0x20000000`).
//!
//! Because a conversion changes only coordinate values, never the structure, geometries are
//! converted in place: the byte length, byte orders, type codes and counts stay exactly as they
//! were. x = easting/longitude, y = northing/latitude; z is converted with x and y when the
//! geometry has it; m values pass through unchanged. A point whose x and y are both NaN is the
//! GeoPackage / GDAL encoding of `POINT EMPTY` and is left alone.
//!
//! Malformed input (truncated data, counts beyond the buffer, unknown type codes, trailing
//! bytes, nesting deeper than [`MAX_DEPTH`]) is an error with the byte offset; nothing panics.

use crate::error::PointError;
use crate::transformer::Transformer;
use std::fmt;

/// Collections nested deeper than this are refused (protects the stack from hostile input).
pub const MAX_DEPTH: u32 = 64;

/// Why a geometry could not be converted.
#[derive(Debug, Clone, PartialEq)]
pub enum WkbError {
    /// The bytes are not a valid WKB geometry.
    Malformed {
        /// Byte offset of the problem from the start of the WKB.
        offset: usize,
        /// What is wrong.
        message: String,
    },
    /// A coordinate could not be converted.
    Point(PointError),
}

impl fmt::Display for WkbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WkbError::Malformed { offset, message } => {
                write!(f, "invalid WKB at byte {offset}: {message}")
            }
            WkbError::Point(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for WkbError {}

/// The extent of a geometry's coordinates; each range is `None` when there is no such value.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Envelope {
    /// (min, max) of x.
    pub x: Option<(f64, f64)>,
    /// (min, max) of y.
    pub y: Option<(f64, f64)>,
    /// (min, max) of z (only geometries with z).
    pub z: Option<(f64, f64)>,
    /// (min, max) of m (only geometries with m).
    pub m: Option<(f64, f64)>,
}

fn widen(range: &mut Option<(f64, f64)>, v: f64) {
    *range = Some(match *range {
        None => (v, v),
        Some((lo, hi)) => (lo.min(v), hi.max(v)),
    });
}

fn union(a: Option<(f64, f64)>, b: Option<(f64, f64)>) -> Option<(f64, f64)> {
    match (a, b) {
        (Some((a0, a1)), Some((b0, b1))) => Some((a0.min(b0), a1.max(b1))),
        (a, None) => a,
        (None, b) => b,
    }
}

impl Envelope {
    /// Widens the envelope by another one.
    pub fn extend(&mut self, other: &Envelope) {
        self.x = union(self.x, other.x);
        self.y = union(self.y, other.y);
        self.z = union(self.z, other.z);
        self.m = union(self.m, other.m);
    }

    /// Widens the envelope by one coordinate tuple.
    pub fn add(&mut self, x: f64, y: f64, z: Option<f64>, m: Option<f64>) {
        widen(&mut self.x, x);
        widen(&mut self.y, y);
        if let Some(z) = z {
            widen(&mut self.z, z);
        }
        if let Some(m) = m {
            widen(&mut self.m, m);
        }
    }
}

/// What a geometry holds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Summary {
    /// The top-level geometry's 2D type code (1 = Point … 17 = Triangle).
    pub geometry_type: u32,
    /// Whether the top-level geometry has z.
    pub has_z: bool,
    /// Whether the top-level geometry has m.
    pub has_m: bool,
    /// Coordinate tuples (empty points not counted).
    pub vertices: u64,
    /// The extent of the coordinates (after conversion, for [`transform_in_place`]).
    pub envelope: Envelope,
}

impl Summary {
    /// Whether the geometry has no coordinates at all (an empty geometry).
    pub fn is_empty(&self) -> bool {
        self.vertices == 0
    }
}

/// The name of a 2D type code, as `ST_GeometryType` and GeoPackage's
/// `gpkg_geometry_columns.geometry_type_name` spell it (`"POINT"`, `"MULTIPOLYGON"`, ...).
pub fn type_name(code: u32) -> &'static str {
    match code {
        1 => "POINT",
        2 => "LINESTRING",
        3 => "POLYGON",
        4 => "MULTIPOINT",
        5 => "MULTILINESTRING",
        6 => "MULTIPOLYGON",
        7 => "GEOMETRYCOLLECTION",
        8 => "CIRCULARSTRING",
        9 => "COMPOUNDCURVE",
        10 => "CURVEPOLYGON",
        11 => "MULTICURVE",
        12 => "MULTISURFACE",
        13 => "CURVE",
        14 => "SURFACE",
        15 => "POLYHEDRALSURFACE",
        16 => "TIN",
        17 => "TRIANGLE",
        _ => "GEOMETRY",
    }
}

/// A WKB geometry type code taken apart: ISO's thousands (1000 Z, 2000 M, 3000 ZM) and EWKB's
/// flag bits (0x80000000 Z, 0x40000000 M, 0x20000000 an SRID follows) both read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TypeCode {
    /// The 2D type code (1 = Point ... 17 = Triangle; see [`type_name`]).
    pub(crate) base: u32,
    /// Whether positions have z.
    pub(crate) z: bool,
    /// Whether positions have m.
    pub(crate) m: bool,
    /// Whether an EWKB SRID (4 bytes) follows the code.
    pub(crate) srid: bool,
}

impl TypeCode {
    /// `code` taken apart; `None` if its thousands are not 0 to 3.
    pub(crate) fn of(code: u32) -> Option<TypeCode> {
        let iso = code & 0x0FFF_FFFF;
        let (mut z, mut m) = (code & 0x8000_0000 != 0, code & 0x4000_0000 != 0);
        match iso / 1000 {
            0 => {}
            1 => z = true,
            2 => m = true,
            3 => (z, m) = (true, true),
            _ => return None,
        }
        Some(TypeCode { base: iso % 1000, z, m, srid: code & 0x2000_0000 != 0 })
    }
}

/// A contiguous sequence of coordinate tuples.
#[derive(Debug, Clone, Copy)]
struct Run {
    offset: usize,
    count: usize,
    little: bool,
    z: bool,
    m: bool,
    /// A Point's single tuple (NaN x and y = empty point).
    point: bool,
}

impl Run {
    fn stride(&self) -> usize {
        8 * (2 + usize::from(self.z) + usize::from(self.m))
    }
}

struct Parser<'a> {
    buf: &'a [u8],
    pos: usize,
    runs: Vec<Run>,
}

fn malformed(offset: usize, message: impl Into<String>) -> WkbError {
    WkbError::Malformed { offset, message: message.into() }
}

impl Parser<'_> {
    fn byte(&mut self) -> Result<u8, WkbError> {
        let b = *self.buf.get(self.pos).ok_or_else(|| malformed(self.pos, "unexpected end"))?;
        self.pos += 1;
        Ok(b)
    }

    fn u32(&mut self, little: bool) -> Result<u32, WkbError> {
        let bytes: [u8; 4] = self
            .buf
            .get(self.pos..self.pos + 4)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| malformed(self.pos, "unexpected end"))?;
        self.pos += 4;
        Ok(if little { u32::from_le_bytes(bytes) } else { u32::from_be_bytes(bytes) })
    }

    /// A count of items each at least `min_size` bytes long, checked against what is left.
    fn count(&mut self, little: bool, min_size: usize) -> Result<usize, WkbError> {
        let at = self.pos;
        let n = self.u32(little)? as usize;
        let left = self.buf.len() - self.pos;
        if n.checked_mul(min_size).is_none_or(|need| need > left) {
            return Err(malformed(at, format!("count {n} exceeds the remaining {left} bytes")));
        }
        Ok(n)
    }

    fn run(&mut self, little: bool, z: bool, m: bool, point: bool) -> Result<(), WkbError> {
        let mut run = Run { offset: 0, count: 1, little, z, m, point };
        if !point {
            run.count = self.count(little, run.stride())?;
        }
        run.offset = self.pos;
        let len = run.count * run.stride();
        if self.buf.len() - self.pos < len {
            return Err(malformed(self.pos, "unexpected end in coordinates"));
        }
        self.pos += len;
        self.runs.push(run);
        Ok(())
    }

    /// One geometry; its (2D type code, z, m).
    fn geometry(&mut self, depth: u32) -> Result<Kind, WkbError> {
        if depth > MAX_DEPTH {
            return Err(malformed(self.pos, format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let start = self.pos;
        let little = match self.byte()? {
            0 => false,
            1 => true,
            b => return Err(malformed(start, format!("byte order {b} (expected 0 or 1)"))),
        };
        let code = self.u32(little)?;
        let Some(TypeCode { base, z, m, srid }) = TypeCode::of(code) else {
            return Err(malformed(start + 1, format!("unknown geometry type code {code}")));
        };
        if srid {
            self.u32(little)?;
        }
        match base {
            1 => self.run(little, z, m, true)?,
            2 | 8 => self.run(little, z, m, false)?,
            3 | 17 => {
                let rings = self.count(little, 4)?;
                for _ in 0..rings {
                    self.run(little, z, m, false)?;
                }
            }
            4..=7 | 9..=12 | 15 | 16 => {
                let parts = self.count(little, 9)?;
                for _ in 0..parts {
                    let at = self.pos;
                    let (part, _, _) = self.geometry(depth + 1)?;
                    let expected = match base {
                        4 => Some(1),
                        5 => Some(2),
                        6 => Some(3),
                        15 => Some(3),
                        16 => Some(17),
                        _ => None,
                    };
                    if expected.is_some_and(|e| e != part) {
                        return Err(malformed(
                            at,
                            format!("{} inside a {}", type_name(part), type_name(base)),
                        ));
                    }
                }
            }
            _ => return Err(malformed(start + 1, format!("unknown geometry type code {code}"))),
        }
        Ok((base, z, m))
    }
}

/// A geometry's 2D type code, whether it has z, whether it has m.
type Kind = (u32, bool, bool);

/// Parses `wkb`: its top-level kind and its coordinate runs.
fn parse(wkb: &[u8]) -> Result<(Kind, Vec<Run>), WkbError> {
    let mut parser = Parser { buf: wkb, pos: 0, runs: Vec::new() };
    let top = parser.geometry(0)?;
    if parser.pos != wkb.len() {
        return Err(malformed(
            parser.pos,
            format!("{} trailing byte(s) after the geometry", wkb.len() - parser.pos),
        ));
    }
    Ok((top, parser.runs))
}

/// The f64 at `at` in the given byte order (0 beyond the buffer).
pub(crate) fn read_f64(buf: &[u8], at: usize, little: bool) -> f64 {
    let mut bytes = [0u8; 8];
    if let Some(s) = buf.get(at..at + 8) {
        bytes.copy_from_slice(s);
    }
    if little {
        f64::from_le_bytes(bytes)
    } else {
        f64::from_be_bytes(bytes)
    }
}

/// Writes `v` at `at` in the given byte order (nothing beyond the buffer).
pub(crate) fn write_f64(buf: &mut [u8], at: usize, little: bool, v: f64) {
    let bytes = if little { v.to_le_bytes() } else { v.to_be_bytes() };
    if let Some(s) = buf.get_mut(at..at + 8) {
        s.copy_from_slice(&bytes);
    }
}

/// Reads the tuples of every run: `visit(x, y, z, m)`, empty points skipped.
fn for_each(wkb: &[u8], runs: &[Run], mut visit: impl FnMut(f64, f64, Option<f64>, Option<f64>)) {
    for run in runs {
        for i in 0..run.count {
            let at = run.offset + i * run.stride();
            let x = read_f64(wkb, at, run.little);
            let y = read_f64(wkb, at + 8, run.little);
            if run.point && x.is_nan() && y.is_nan() {
                continue;
            }
            let z = run.z.then(|| read_f64(wkb, at + 16, run.little));
            let m = run.m.then(|| read_f64(wkb, at + 16 + 8 * usize::from(run.z), run.little));
            visit(x, y, z, m);
        }
    }
}

fn summarise(wkb: &[u8], top: Kind, runs: &[Run]) -> Summary {
    let mut summary =
        Summary { geometry_type: top.0, has_z: top.1, has_m: top.2, ..Summary::default() };
    for_each(wkb, runs, |x, y, z, m| {
        summary.vertices += 1;
        summary.envelope.add(x, y, z, m);
    });
    summary
}

/// Validates `wkb` and summarises it (type, vertex count, envelope) without changing it.
pub fn summary(wkb: &[u8]) -> Result<Summary, WkbError> {
    let (top, runs) = parse(wkb)?;
    Ok(summarise(wkb, top, &runs))
}

/// Appends up to `max` coordinates `[x, y, z]` of `wkb` to `out` (z = 0 without z; empty points
/// skipped). Validates the whole geometry first.
pub fn coordinates(wkb: &[u8], max: usize, out: &mut Vec<[f64; 3]>) -> Result<(), WkbError> {
    let (_, runs) = parse(wkb)?;
    let mut n = 0;
    for_each(wkb, &runs, |x, y, z, _| {
        if n < max {
            out.push([x, y, z.unwrap_or(0.0)]);
            n += 1;
        }
    });
    Ok(())
}

/// Converts every coordinate of `wkb` in place with `transformer` (3D for tuples with z, else
/// 2D with height 0 on the source datum; m unchanged) and summarises the converted geometry.
///
/// The whole geometry is validated before any byte is changed. On a point error the buffer may
/// hold a partly converted geometry: the caller must discard it (it is never meant to be
/// written). One geometry at a time; a GeoPackage conversion batches many through
/// `gather` and `scatter` instead.
pub fn transform_in_place(wkb: &mut [u8], transformer: &Transformer) -> Result<Summary, WkbError> {
    let mut points = Vec::new();
    gather(wkb, &mut points)?;
    let batch = transformer.transform_slice(&mut points);
    if let Some(f) = batch.failures.into_iter().next() {
        return Err(WkbError::Point(f.error));
    }
    scatter(wkb, &points)
}

/// Validates `wkb` and pushes its coordinates `[x, y, z]` to `points` (z = 0 for tuples without
/// z, which are then converted in 2D with height 0; empty points, NaN, skipped), for a batch
/// transform whose results go back through [`scatter`].
pub(crate) fn gather(wkb: &[u8], points: &mut Vec<[f64; 3]>) -> Result<(), WkbError> {
    let (_, runs) = parse(wkb)?;
    for run in &runs {
        let Some(bytes) = wkb.get(run.offset..run.offset + run.count * run.stride()) else {
            continue; // never: parse checked every run against the buffer
        };
        points.reserve(run.count);
        // The byte order chosen once per run, not per value.
        if run.little {
            gather_run::<true>(bytes, run, points);
        } else {
            gather_run::<false>(bytes, run, points);
        }
    }
    Ok(())
}

/// [`gather`] of one run's tuples (`bytes`), little-endian if `LITTLE`.
#[inline(always)]
fn gather_run<const LITTLE: bool>(bytes: &[u8], run: &Run, points: &mut Vec<[f64; 3]>) {
    for t in bytes.chunks_exact(run.stride()) {
        let (x, y) = (f64_in::<LITTLE>(t, 0), f64_in::<LITTLE>(t, 8));
        if run.point && x.is_nan() && y.is_nan() {
            continue; // an empty point
        }
        points.push([x, y, if run.z { f64_in::<LITTLE>(t, 16) } else { 0.0 }]);
    }
}

/// The f64 at `at` in a tuple (whole: within its run), little-endian if `LITTLE`.
#[inline(always)]
fn f64_in<const LITTLE: bool>(tuple: &[u8], at: usize) -> f64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&tuple[at..at + 8]);
    if LITTLE {
        f64::from_le_bytes(b)
    } else {
        f64::from_be_bytes(b)
    }
}

/// Writes `v` at `at` in a tuple (whole: within its run), little-endian if `LITTLE`.
#[inline(always)]
fn f64_out<const LITTLE: bool>(tuple: &mut [u8], at: usize, v: f64) {
    let b = if LITTLE { v.to_le_bytes() } else { v.to_be_bytes() };
    tuple[at..at + 8].copy_from_slice(&b);
}

/// Writes `converted` — the points [`gather`] pushed for `wkb`, transformed, in the same order —
/// back into `wkb` (z only where the tuples have it; m unchanged), and summarises the converted
/// geometry.
///
/// One pass over the tuples: each position [`gather`] took (empty points, NaN x and y, left
/// out) gets its converted values, and the summary is built from the values written (what
/// [`summary`] of the written bytes gives: an f64 written and read back is the same number),
/// with the empty-point rule applied to them; a position beyond `converted` (never, when
/// `converted` comes from [`gather`]) keeps its bytes and is summarised from them.
pub(crate) fn scatter(wkb: &mut [u8], converted: &[[f64; 3]]) -> Result<Summary, WkbError> {
    let ((geometry_type, has_z, has_m), runs) = parse(wkb)?;
    let mut acc = Scattered::default();
    let mut next = converted.iter();
    for run in &runs {
        let Some(bytes) = wkb.get_mut(run.offset..run.offset + run.count * run.stride()) else {
            continue; // never: parse checked every run against the buffer
        };
        // The byte order chosen once per run, not per value.
        if run.little {
            scatter_run::<true>(bytes, run, &mut next, &mut acc);
        } else {
            scatter_run::<false>(bytes, run, &mut next, &mut acc);
        }
    }
    let any = acc.vertices > 0;
    Ok(Summary {
        geometry_type,
        has_z,
        has_m,
        vertices: acc.vertices,
        envelope: Envelope {
            x: any.then_some(acc.x),
            y: any.then_some(acc.y),
            z: acc.any_z.then_some(acc.z),
            m: acc.any_m.then_some(acc.m),
        },
    })
}

/// What [`scatter`] has summed up so far. Ranges as `Envelope::add` widens them: the first
/// value, then `min`/`max` (which pass a NaN over); a NaN start gives the same, as
/// NaN.min(v) = v. `any_*`: a value was added.
struct Scattered {
    vertices: u64,
    x: (f64, f64),
    y: (f64, f64),
    z: (f64, f64),
    m: (f64, f64),
    any_z: bool,
    any_m: bool,
}

impl Default for Scattered {
    fn default() -> Self {
        let nan = (f64::NAN, f64::NAN);
        Scattered { vertices: 0, x: nan, y: nan, z: nan, m: nan, any_z: false, any_m: false }
    }
}

/// [`scatter`] of one run's tuples (`bytes`), little-endian if `LITTLE`.
#[inline(always)]
fn scatter_run<'c, const LITTLE: bool>(
    bytes: &mut [u8],
    run: &Run,
    next: &mut impl Iterator<Item = &'c [f64; 3]>,
    acc: &mut Scattered,
) {
    let widen = |r: &mut (f64, f64), v: f64| *r = (r.0.min(v), r.1.max(v));
    for tuple in bytes.chunks_exact_mut(run.stride()) {
        if run.point && f64_in::<LITTLE>(tuple, 0).is_nan() && f64_in::<LITTLE>(tuple, 8).is_nan() {
            continue; // an empty point: not gathered, bytes kept, not counted
        }
        let (x, y, z) = match next.next() {
            Some(&[x, y, z]) => {
                f64_out::<LITTLE>(tuple, 0, x);
                f64_out::<LITTLE>(tuple, 8, y);
                if run.z {
                    f64_out::<LITTLE>(tuple, 16, z);
                }
                (x, y, z)
            }
            None => (f64_in::<LITTLE>(tuple, 0), f64_in::<LITTLE>(tuple, 8), {
                if run.z {
                    f64_in::<LITTLE>(tuple, 16)
                } else {
                    0.0
                }
            }),
        };
        if run.point && x.is_nan() && y.is_nan() {
            continue; // converted to the empty point's encoding: not counted, as by [`summary`]
        }
        acc.vertices += 1;
        widen(&mut acc.x, x);
        widen(&mut acc.y, y);
        if run.z {
            acc.any_z = true;
            widen(&mut acc.z, z);
        }
        if run.m {
            acc.any_m = true;
            widen(&mut acc.m, f64_in::<LITTLE>(tuple, 16 + 8 * usize::from(run.z)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le_point(x: f64, y: f64) -> Vec<u8> {
        let mut v = vec![1, 1, 0, 0, 0];
        v.extend(x.to_le_bytes());
        v.extend(y.to_le_bytes());
        v
    }

    #[test]
    fn point_big_and_little_endian() {
        let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
        let mut le = le_point(116.404, 39.915);
        let s = transform_in_place(&mut le, &t).unwrap();
        assert_eq!((s.geometry_type, s.vertices, s.has_z), (1, 1, false));
        // PROJ 9 (cs2cs EPSG:4326 EPSG:4548), as in the crate docs.
        let (x, y) = s.envelope.x.zip(s.envelope.y).map(|(x, y)| (x.0, y.0)).unwrap();
        assert!((x - 449_042.047_441).abs() < 1e-6 && (y - 4_420_261.219_997).abs() < 1e-6);
        let mut be = vec![0, 0, 0, 0, 1];
        be.extend(116.404f64.to_be_bytes());
        be.extend(39.915f64.to_be_bytes());
        transform_in_place(&mut be, &t).unwrap();
        assert_eq!(read_f64(&be, 5, false), read_f64(&le, 5, true));
        assert_eq!(read_f64(&be, 13, false), read_f64(&le, 13, true));
    }

    #[test]
    fn iso_and_extended_z_m_codes() {
        // LineString ZM (ISO 3002) with 1 point and MultiPoint Z (EWKB flags) around a point.
        let mut zm = vec![1];
        zm.extend(3002u32.to_le_bytes());
        zm.extend(1u32.to_le_bytes());
        for v in [116.0, 40.0, 50.0, 7.5] {
            zm.extend(f64::to_le_bytes(v));
        }
        let s = summary(&zm).unwrap();
        assert!(s.has_z && s.has_m && s.vertices == 1);
        assert_eq!((s.envelope.z, s.envelope.m), (Some((50.0, 50.0)), Some((7.5, 7.5))));
        let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
        transform_in_place(&mut zm, &t).unwrap();
        assert_eq!(read_f64(&zm, 9 + 24, true), 7.5, "m unchanged");

        let mut ewkb = vec![0];
        ewkb.extend((0x8000_0000u32 | 4).to_be_bytes());
        ewkb.extend(1u32.to_be_bytes());
        ewkb.push(0);
        ewkb.extend((0x8000_0000u32 | 1).to_be_bytes());
        for v in [116.0f64, 40.0, 10.0] {
            ewkb.extend(v.to_be_bytes());
        }
        let s = summary(&ewkb).unwrap();
        assert_eq!((s.geometry_type, s.has_z, s.vertices), (4, true, 1));
    }

    #[test]
    fn empty_point_left_alone() {
        let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
        let mut p = le_point(f64::NAN, f64::NAN);
        let before = p.clone();
        let s = transform_in_place(&mut p, &t).unwrap();
        assert!(s.is_empty());
        assert_eq!(p, before);
    }

    #[test]
    fn malformed_is_an_error() {
        assert!(summary(&[]).is_err());
        assert!(summary(&[2, 1, 0, 0, 0]).is_err());
        let mut p = le_point(1.0, 2.0);
        p.push(0);
        assert!(matches!(summary(&p), Err(WkbError::Malformed { offset: 21, .. })));
        // A huge count.
        let mut l = vec![1, 2, 0, 0, 0];
        l.extend(u32::MAX.to_le_bytes());
        assert!(summary(&l).is_err());
        // Deep nesting.
        let mut deep = Vec::new();
        for _ in 0..100 {
            deep.extend([1, 7, 0, 0, 0, 1, 0, 0, 0]);
        }
        assert!(summary(&deep).is_err());
    }

    /// Big-endian MultiPoint Z holding an empty point; little-endian Polygon ZM; a
    /// GeometryCollection mixing both orders around a LineString M.
    fn mixed_geometries() -> Vec<Vec<u8>> {
        let mut mp = vec![0];
        mp.extend(1004u32.to_be_bytes());
        mp.extend(3u32.to_be_bytes());
        for p in [[116.1f64, 39.9, 5.0], [f64::NAN, f64::NAN, f64::NAN], [116.3, 40.1, -2.5]] {
            mp.push(0);
            mp.extend(1001u32.to_be_bytes());
            for v in p {
                mp.extend(v.to_be_bytes());
            }
        }
        let mut poly = vec![1];
        poly.extend(3003u32.to_le_bytes());
        poly.extend(1u32.to_le_bytes());
        poly.extend(4u32.to_le_bytes());
        for p in [[116.0f64, 40.0, 1.0, 9.0], [116.5, 40.0, 2.0, 8.0], [116.5, 40.5, 3.0, 7.0]] {
            for v in p {
                poly.extend(v.to_le_bytes());
            }
        }
        poly.extend(116.0f64.to_le_bytes());
        poly.extend(40.0f64.to_le_bytes());
        poly.extend(1.0f64.to_le_bytes());
        poly.extend(9.0f64.to_le_bytes());
        let mut gc = vec![1];
        gc.extend(7u32.to_le_bytes());
        gc.extend(2u32.to_le_bytes());
        gc.extend(&mp);
        gc.push(0);
        gc.extend(2002u32.to_be_bytes());
        gc.extend(2u32.to_be_bytes());
        for v in [117.0f64, 41.0, 0.5, 117.25, 41.5, 0.75] {
            gc.extend(v.to_be_bytes());
        }
        vec![mp, poly, gc]
    }

    #[test]
    fn scatter_summary_is_the_summary_of_the_written_bytes() {
        let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
        for wkb in mixed_geometries() {
            let mut points = Vec::new();
            gather(&wkb, &mut points).unwrap();
            let expected_points = points.clone();
            t.transform_slice(&mut points);
            let mut converted = wkb.clone();
            let s = scatter(&mut converted, &points).unwrap();
            assert_eq!(s, summary(&converted).unwrap());
            // The bytes written are the converted points, in gather's order (read back).
            let mut back = Vec::new();
            gather(&converted, &mut back).unwrap();
            assert_eq!(back.len(), expected_points.len());
            for (b, p) in back.iter().zip(&points) {
                assert_eq!(b[0].to_bits(), p[0].to_bits());
                assert_eq!(b[1].to_bits(), p[1].to_bits());
            }
            // m values and every non-coordinate byte unchanged: converting back to the input's
            // numbers restores the input exactly.
            let mut again = converted.clone();
            scatter(&mut again, &expected_points).unwrap();
            assert_eq!(again, wkb);
        }
    }

    proptest::proptest! {
        #[test]
        /// Any converted values (NaN, infinities, signed zeros; fewer than gathered too) on
        /// the valid mixed geometries: scatter's summary is the summary of the bytes it wrote.
        fn scatter_matches_summary(
            values in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::num::f64::ANY,
                    proptest::strategy::Just(f64::NAN),
                    proptest::strategy::Just(-0.0),
                    proptest::strategy::Just(0.0),
                ],
                0..30,
            ),
        ) {
            for wkb in mixed_geometries() {
                let converted: Vec<[f64; 3]> = values
                    .chunks_exact(3)
                    .map(|v| [v[0], v[1], v[2]])
                    .collect();
                let mut b = wkb.clone();
                let s = scatter(&mut b, &converted).unwrap();
                proptest::prop_assert_eq!(format!("{s:?}"), format!("{:?}", summary(&b).unwrap()));
            }
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
            let mut b = bytes.clone();
            let _ = summary(&bytes);
            let _ = transform_in_place(&mut b, &t);
            let mut out = Vec::new();
            let _ = coordinates(&bytes, 10, &mut out);
        }
    }
}
