//! Input files of the whole-process comparisons (`benches/compare.rs`), written deterministically
//! from [`super::points_deg`]'s points: CGCS2000 degrees in EPSG:4547's zone (112.5–115.5°E,
//! 22–32°N), to 1e-9° (0.1 mm), as survey and GIS files carry them.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Vertices per GeoJSON LineString.
pub const LINE_VERTICES: usize = 100;

/// The points of every file: `n` (lon, lat) pairs in degrees.
pub fn points(n: usize) -> Vec<[f64; 2]> {
    super::points_deg(n, 114.0, 22.0)
}

/// `lon lat` lines (for `geounify transform`) and `lat lon` lines (for `cs2cs EPSG:4490
/// EPSG:4547`, which reads EPSG:4490's own axis order): the same `n` points.
pub fn write_transform_inputs(n: usize, lon_lat: &Path, lat_lon: &Path) -> std::io::Result<()> {
    let mut a = BufWriter::new(File::create(lon_lat)?);
    let mut b = BufWriter::new(File::create(lat_lon)?);
    for p in points(n) {
        writeln!(a, "{:.9} {:.9}", p[0], p[1])?;
        writeln!(b, "{:.9} {:.9}", p[1], p[0])?;
    }
    a.flush()?;
    b.flush()
}

/// A CSV of `n` rows `id,name,lon,lat`.
pub fn write_csv(n: usize, path: &Path) -> std::io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    out.write_all(b"id,name,lon,lat\n")?;
    for (i, p) in points(n).iter().enumerate() {
        writeln!(out, "{i},point {i},{:.9},{:.9}", p[0], p[1])?;
    }
    out.flush()
}

/// `n` points as a CASS point file: `id,,lon,lat` lines (no code, no height), the points of
/// [`write_csv`].
pub fn write_cass(n: usize, path: &Path) -> std::io::Result<()> {
    let mut out = BufWriter::new(File::create(path)?);
    for (i, p) in points(n).iter().enumerate() {
        writeln!(out, "{i},,{:.9},{:.9}", p[0], p[1])?;
    }
    out.flush()
}

/// A GeoJSON FeatureCollection of `n` vertices: LineStrings of [`LINE_VERTICES`] vertices (the
/// last one shorter if need be, at least 2) with an id and a name.
pub fn write_geojson(n: usize, path: &Path) -> std::io::Result<()> {
    let pts = points(n.max(2));
    let mut out = BufWriter::new(File::create(path)?);
    out.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")?;
    let mut line = String::new();
    let mut start = 0;
    let mut k = 0;
    while start < pts.len() {
        // A lone last vertex joins the line before it.
        let mut end = (start + LINE_VERTICES).min(pts.len());
        if pts.len() - end == 1 {
            end += 1;
        }
        line.clear();
        if k > 0 {
            line.push_str(",\n");
        }
        let _ = write!(
            line,
            "{{\"type\":\"Feature\",\"properties\":{{\"id\":{k},\"name\":\"road {k}\"}},\
             \"geometry\":{{\"type\":\"LineString\",\"coordinates\":["
        );
        for (j, p) in pts[start..end].iter().enumerate() {
            let sep = if j > 0 { "," } else { "" };
            let _ = write!(line, "{sep}[{:.9},{:.9}]", p[0], p[1]);
        }
        line.push_str("]}}");
        out.write_all(line.as_bytes())?;
        start = end;
        k += 1;
    }
    out.write_all(b"\n]}\n")?;
    out.flush()
}
