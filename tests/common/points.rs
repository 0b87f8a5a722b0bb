//! Point files near Beijing (WGS84 degrees, inside EPSG:4548's zone), streamed to disk so that
//! millions of points cost no memory: inputs large enough that a conversion is still running
//! when a test interrupts or kills it, or that overflow a small file-size limit.

use std::io::{BufWriter, Write};
use std::path::Path;

/// The `i`-th point (longitude, latitude) of a 1,000-column grid from (116°, 39.5°): 0.001° east
/// per column, 0.0005° north per row (2,000,000 points stay below 117° × 40.5°).
pub fn grid(i: u32) -> (f64, f64) {
    let (u, v) = (f64::from(i % 1000) / 1000.0, f64::from(i / 1000) / 2000.0);
    (116.0 + u, 39.5 + v)
}

/// Writes the CSV `path`: header `id,lon,lat`, then `n` rows `i,lon,lat` of [`grid`] points.
pub fn csv(path: &Path, n: u32) {
    let mut f = BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, "id,lon,lat").unwrap();
    for i in 0..n {
        let (lon, lat) = grid(i);
        writeln!(f, "{i},{lon},{lat}").unwrap();
    }
    f.flush().unwrap();
}

/// Writes the point Shapefile `dir/stem.shp` and its `.shx` byte by byte (ESRI Shapefile
/// Technical Description, July 1998; no `.dbf`, no `.prj`): `n` records of [`grid`] points,
/// numbered from 1, the header's box 116..117 × 39.5..40.
pub fn shapefile(dir: &Path, stem: &str, n: u32) {
    let header = |words: u32| {
        let mut h = [0u8; 100];
        h[0..4].copy_from_slice(&9994i32.to_be_bytes());
        h[24..28].copy_from_slice(&words.to_be_bytes());
        h[28..32].copy_from_slice(&1000i32.to_le_bytes());
        h[32..36].copy_from_slice(&1i32.to_le_bytes());
        for (k, v) in [116.0f64, 39.5, 117.0, 40.0].into_iter().enumerate() {
            h[36 + 8 * k..44 + 8 * k].copy_from_slice(&v.to_le_bytes());
        }
        h
    };
    let create = |ext: &str| {
        BufWriter::new(std::fs::File::create(dir.join(format!("{stem}.{ext}"))).unwrap())
    };
    let (mut shp, mut shx) = (create("shp"), create("shx"));
    shp.write_all(&header((100 + 28 * n) / 2)).unwrap();
    shx.write_all(&header((100 + 8 * n) / 2)).unwrap();
    for i in 0..n {
        let (lon, lat) = grid(i);
        shp.write_all(&(i + 1).to_be_bytes()).unwrap();
        shp.write_all(&10u32.to_be_bytes()).unwrap();
        shp.write_all(&1i32.to_le_bytes()).unwrap();
        shp.write_all(&lon.to_le_bytes()).unwrap();
        shp.write_all(&lat.to_le_bytes()).unwrap();
        shx.write_all(&((100 + 28 * i) / 2).to_be_bytes()).unwrap();
        shx.write_all(&10u32.to_be_bytes()).unwrap();
    }
    shp.flush().unwrap();
    shx.flush().unwrap();
}
