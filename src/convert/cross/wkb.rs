//! Geometries of the feature model as well-known binary (read and written: GeoPackage) and
//! well-known text (written: the `wkt` column of a CSV output).
//!
//! **Written** WKB is little-endian ISO WKB: 2D codes 1–7, with z +1000. **Read**: both byte
//! orders, ISO Z / M / ZM codes (+1000 / +2000 / +3000) and the extended (EWKB) Z / M / SRID
//! flags; m values are dropped (the model has none; the reader counts them for a warning). Curve
//! and surface types (8–17) are refused with their name. Nesting is capped at
//! [`super::super::wkb::MAX_DEPTH`]; counts are checked against the bytes left
//! before anything is allocated.

use super::super::features::{Coord, Geometry, Shape};
use super::super::wkb::{type_name, TypeCode, MAX_DEPTH};
use super::Digits;

/// Appends `g` as little-endian ISO WKB.
pub fn write_wkb(g: &Geometry, out: &mut Vec<u8>) {
    write_shape(&g.shape, g.has_z, out);
}

fn write_shape(s: &Shape, z: bool, out: &mut Vec<u8>) {
    out.push(1);
    let code = s.kind().wkb_code() + if z { 1000 } else { 0 };
    out.extend(code.to_le_bytes());
    let count = |out: &mut Vec<u8>, n: usize| out.extend((n as u32).to_le_bytes());
    let coord = |out: &mut Vec<u8>, c: &Coord| {
        out.extend(c[0].to_le_bytes());
        out.extend(c[1].to_le_bytes());
        if z {
            out.extend(c[2].to_le_bytes());
        }
    };
    let ring = |out: &mut Vec<u8>, cs: &[Coord]| {
        count(out, cs.len());
        cs.iter().for_each(|c| coord(out, c));
    };
    match s {
        Shape::Point(c) => coord(out, c),
        Shape::LineString(cs) => ring(out, cs),
        Shape::Polygon(rings) => {
            count(out, rings.len());
            rings.iter().for_each(|r| ring(out, r));
        }
        Shape::MultiPoint(cs) => {
            count(out, cs.len());
            for c in cs {
                write_shape(&Shape::Point(*c), z, out);
            }
        }
        Shape::MultiLineString(lines) => {
            count(out, lines.len());
            for l in lines {
                out.push(1);
                out.extend((2 + if z { 1000u32 } else { 0 }).to_le_bytes());
                ring(out, l);
            }
        }
        Shape::MultiPolygon(polygons) => {
            count(out, polygons.len());
            for p in polygons {
                out.push(1);
                out.extend((3 + if z { 1000u32 } else { 0 }).to_le_bytes());
                count(out, p.len());
                p.iter().for_each(|r| ring(out, r));
            }
        }
        Shape::GeometryCollection(shapes) => {
            count(out, shapes.len());
            shapes.iter().for_each(|s| write_shape(s, z, out));
        }
    }
}

/// Reads a whole WKB geometry. Errors: malformed bytes (with the byte offset), unsupported
/// types, trailing bytes. `m_dropped` is set when the geometry had m values (dropped).
pub fn read_wkb(b: &[u8], m_dropped: &mut bool) -> Result<Geometry, String> {
    let mut r = Reader { b, at: 0, m_dropped: false, z: None };
    let shape = r.shape(0, None)?;
    if r.at != b.len() {
        return Err(format!("{} bytes after the geometry at byte {}", b.len() - r.at, r.at));
    }
    *m_dropped |= r.m_dropped;
    Ok(Geometry { shape, has_z: r.z.unwrap_or(false) })
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
    m_dropped: bool,
    /// Whether the top-level geometry has z (parts must agree).
    z: Option<bool>,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len()).ok_or_else(|| {
            format!("the geometry ends at byte {} inside a value of {n} bytes", self.b.len())
        })?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u32(&mut self, little: bool) -> Result<u32, String> {
        let s = self.take(4)?;
        let a = [s[0], s[1], s[2], s[3]];
        Ok(if little { u32::from_le_bytes(a) } else { u32::from_be_bytes(a) })
    }

    fn f64(&mut self, little: bool) -> Result<f64, String> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(if little { f64::from_le_bytes(a) } else { f64::from_be_bytes(a) })
    }

    /// A count of items of at least `min_bytes` each, checked against the bytes left.
    fn count(&mut self, little: bool, min_bytes: usize) -> Result<usize, String> {
        let at = self.at;
        let n = self.u32(little)? as usize;
        let left = self.b.len() - self.at;
        if n.checked_mul(min_bytes).is_none_or(|need| need > left) {
            return Err(format!(
                "a count of {n} at byte {at} does not fit in the {left} bytes left"
            ));
        }
        Ok(n)
    }

    fn shape(&mut self, depth: u32, expect: Option<u32>) -> Result<Shape, String> {
        if depth > MAX_DEPTH {
            return Err(format!("geometries nested deeper than {MAX_DEPTH}"));
        }
        let at = self.at;
        let order = self.take(1)?[0];
        let little = match order {
            0 => false,
            1 => true,
            o => return Err(format!("byte order {o} at byte {at} (0 or 1)")),
        };
        let raw = self.u32(little)?;
        let iso = raw & 0x0fff_ffff;
        let Some(TypeCode { base, z, m, srid }) = TypeCode::of(raw) else {
            return Err(format!("unknown geometry type code {iso} at byte {at}"));
        };
        if srid {
            self.take(4)?; // an EWKB SRID
        }
        if let Some(want) = expect {
            if base != want {
                return Err(format!(
                    "a {} inside a {} at byte {at}",
                    type_name(base),
                    type_name(want + 3)
                ));
            }
        }
        match self.z {
            None => self.z = Some(z),
            Some(top) if top != z => {
                return Err(format!("parts with and without z (byte {at})"));
            }
            Some(_) => {}
        }
        self.m_dropped |= m;
        let dims = 2 + usize::from(z) + usize::from(m);
        let coord = |r: &mut Self| -> Result<Coord, String> {
            let x = r.f64(little)?;
            let y = r.f64(little)?;
            let zv = if z { r.f64(little)? } else { 0.0 };
            if m {
                r.f64(little)?;
            }
            Ok([x, y, zv])
        };
        let line = |r: &mut Self| -> Result<Vec<Coord>, String> {
            let n = r.count(little, 8 * dims)?;
            (0..n).map(|_| coord(r)).collect()
        };
        let rings = |r: &mut Self| -> Result<Vec<Vec<Coord>>, String> {
            let n = r.count(little, 4)?;
            (0..n).map(|_| line(r)).collect()
        };
        Ok(match base {
            1 => Shape::Point(coord(self)?),
            2 => Shape::LineString(line(self)?),
            3 => Shape::Polygon(rings(self)?),
            4..=7 => {
                let n = self.count(little, 5)?;
                let mut parts = Vec::with_capacity(n);
                let expect = (base != 7).then_some(base - 3);
                for _ in 0..n {
                    parts.push(self.shape(depth + 1, expect)?);
                }
                match base {
                    4 => Shape::MultiPoint(
                        parts
                            .into_iter()
                            .filter_map(|p| if let Shape::Point(c) = p { Some(c) } else { None })
                            .collect(),
                    ),
                    5 => Shape::MultiLineString(
                        parts
                            .into_iter()
                            .filter_map(
                                |p| if let Shape::LineString(l) = p { Some(l) } else { None },
                            )
                            .collect(),
                    ),
                    6 => Shape::MultiPolygon(
                        parts
                            .into_iter()
                            .filter_map(|p| if let Shape::Polygon(r) = p { Some(r) } else { None })
                            .collect(),
                    ),
                    _ => Shape::GeometryCollection(parts),
                }
            }
            8..=17 => {
                return Err(format!(
                    "{} geometries are not converted between formats (only points, lines, \
                     polygons, their multi- forms and collections)",
                    type_name(base)
                ))
            }
            _ => return Err(format!("unknown geometry type code {iso} at byte {at}")),
        })
    }
}

/// Appends `g` as WKT (`POINT Z (x y z)`, ...), coordinates written as `digits` says. An empty
/// point (NaN x and y) is `POINT EMPTY`.
pub(crate) fn write_wkt(g: &Geometry, digits: Digits, out: &mut Vec<u8>) {
    write_wkt_shape(&g.shape, g.has_z, digits, out);
}

fn write_wkt_shape(s: &Shape, z: bool, digits: Digits, out: &mut Vec<u8>) {
    out.extend_from_slice(s.kind().name().to_ascii_uppercase().as_bytes());
    if z {
        out.extend_from_slice(b" Z");
    }
    out.push(b' ');
    let coord = |out: &mut Vec<u8>, c: &Coord| {
        digits.push_xy(out, c[0]);
        out.push(b' ');
        digits.push_xy(out, c[1]);
        if z {
            out.push(b' ');
            digits.push_z(out, c[2]);
        }
    };
    let list = |out: &mut Vec<u8>, cs: &[Coord]| {
        if cs.is_empty() {
            out.extend_from_slice(b"EMPTY");
            return;
        }
        out.push(b'(');
        for (i, c) in cs.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            coord(out, c);
        }
        out.push(b')');
    };
    let rings = |out: &mut Vec<u8>, rs: &[Vec<Coord>]| {
        if rs.is_empty() {
            out.extend_from_slice(b"EMPTY");
            return;
        }
        out.push(b'(');
        for (i, r) in rs.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            list(out, r);
        }
        out.push(b')');
    };
    match s {
        Shape::Point(c) if c[0].is_nan() && c[1].is_nan() => out.extend_from_slice(b"EMPTY"),
        Shape::Point(c) => {
            out.push(b'(');
            coord(out, c);
            out.push(b')');
        }
        Shape::LineString(cs) | Shape::MultiPoint(cs) => list(out, cs),
        Shape::Polygon(rs) | Shape::MultiLineString(rs) => rings(out, rs),
        Shape::MultiPolygon(ps) => {
            if ps.is_empty() {
                out.extend_from_slice(b"EMPTY");
                return;
            }
            out.push(b'(');
            for (i, p) in ps.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                rings(out, p);
            }
            out.push(b')');
        }
        Shape::GeometryCollection(shapes) => {
            if shapes.is_empty() {
                out.extend_from_slice(b"EMPTY");
                return;
            }
            out.push(b'(');
            for (i, s) in shapes.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_wkt_shape(s, z, digits, out);
            }
            out.push(b')');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wkb_round_trip_and_errors() {
        let g = Geometry {
            shape: Shape::GeometryCollection(vec![
                Shape::Point([1.0, 2.0, 3.0]),
                Shape::MultiPolygon(vec![vec![vec![
                    [0.0, 0.0, 1.0],
                    [1.0, 0.0, 1.0],
                    [1.0, 1.0, 1.0],
                    [0.0, 0.0, 1.0],
                ]]]),
            ]),
            has_z: true,
        };
        let mut b = Vec::new();
        write_wkb(&g, &mut b);
        let mut m = false;
        assert_eq!(read_wkb(&b, &mut m).unwrap(), g);
        assert!(!m);
        assert!(read_wkb(&b[..b.len() - 1], &mut m).is_err());
        let mut huge = vec![1, 2, 0, 0, 0];
        huge.extend(u32::MAX.to_le_bytes());
        assert!(read_wkb(&huge, &mut m).unwrap_err().contains("does not fit"));
    }

    #[test]
    fn wkt_text() {
        let g = Geometry {
            shape: Shape::Polygon(vec![vec![[0.5, 0.0, 0.0], [1.0, 0.0, 0.0], [0.5, 0.0, 0.0]]]),
            has_z: false,
        };
        let mut out = Vec::new();
        write_wkt(&g, Digits { xy: None, z: None }, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "POLYGON ((0.5 0,1 0,0.5 0))");
    }
}
