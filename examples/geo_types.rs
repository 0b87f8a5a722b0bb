//! A service holds `geo_types` geometries drawn on an AutoNavi / Tencent map (GCJ-02) and needs
//! them in CGCS2000 3° Gauss-Krüger CM 117E (EPSG:4548) to measure them in metres.
//!
//! Run: `cargo run --example geo_types` (feature `geo`, on by default)
//!
//! `transform_geometry` works in place on any `geo_types` type and never panics: a vertex that
//! cannot be converted becomes NaN and is reported by index, so check the report.

use geo::{Area, Euclidean, Length};
use geo_types::{line_string, polygon, Geometry};
use geounify::Transformer;
use std::error::Error;

/// Converts a geometry in place, or says which vertices failed (the geometry then holds NaN and
/// must not be stored).
fn to_grid(t: &Transformer, geometry: &mut Geometry<f64>) -> Result<(), Box<dyn Error>> {
    let report = t.transform_geometry(geometry);
    if let Some(first) = report.failures.first() {
        return Err(format!(
            "{} of {} vertices failed; first: vertex {}: {}",
            report.failed(),
            report.points,
            first.index,
            first.error
        )
        .into());
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    // GCJ-02 → WGS84 is inverted exactly (Newton, 1e-12°), then projected.
    let t = Transformer::from_ids("GCJ02", "EPSG:4548")?;

    // A delivery zone and a route, longitude/latitude in GCJ-02 degrees.
    let mut zone: Geometry<f64> = polygon![
        (x: 116.3975, y: 39.9087), (x: 116.4080, y: 39.9087),
        (x: 116.4080, y: 39.9160), (x: 116.3975, y: 39.9160), (x: 116.3975, y: 39.9087),
    ]
    .into();
    let mut route: Geometry<f64> =
        line_string![(x: 116.3975, y: 39.9087), (x: 116.4080, y: 39.9160)].into();
    to_grid(&t, &mut zone)?;
    to_grid(&t, &mut route)?;
    // Grid area and length: Gauss-Krüger scale at 40 km from the central meridian is 1.00002.
    println!("zone area  {:.1} m² (grid)", zone.unsigned_area());
    if let Geometry::LineString(line) = &route {
        println!("route      {:.3} m (grid)", Euclidean.length(line));
    }

    // A vertex outside every domain: reported, not a panic.
    let mut bad: Geometry<f64> = line_string![(x: 116.40, y: 39.9), (x: 116.40, y: 95.0)].into();
    if let Err(e) = to_grid(&t, &mut bad) {
        println!("refused: {e}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{point, Point};

    #[test]
    fn gcj02_point_to_zone_against_published_vectors() {
        let t = Transformer::from_ids("GCJ02", "EPSG:4548").unwrap();
        // Published GCJ-02 vector: WGS84 (116.404, 39.915) → GCJ-02 (116.41024449916938,
        // 39.91640428150164) (tests/ops_webmaps.rs); PROJ 9 `cs2cs EPSG:4326 EPSG:4548` gives
        // 449042.047441, 4420261.219997 for the WGS84 point, printed to 1 µm. The inverse stops
        // within 1e-12° (0.1 µm), so the two references agree with us within 1 µm.
        let mut p: Geometry<f64> = point!(x: 116.41024449916938, y: 39.91640428150164).into();
        to_grid(&t, &mut p).unwrap();
        let p = Point::try_from(p).unwrap();
        assert!((p.x() - 449_042.047_441).abs() < 1e-6, "easting {}", p.x());
        assert!((p.y() - 4_420_261.219_997).abs() < 1e-6, "northing {}", p.y());
    }

    #[test]
    fn a_failed_vertex_is_reported_with_its_index() {
        let t = Transformer::from_ids("GCJ02", "EPSG:4548").unwrap();
        let mut g: Geometry<f64> =
            line_string![(x: 116.4, y: 39.9), (x: f64::NAN, y: 39.9), (x: 116.4, y: 95.0)].into();
        let message = to_grid(&t, &mut g).unwrap_err().to_string();
        assert!(message.starts_with("2 of 3 vertices failed; first: vertex 1"), "{message}");
    }
}
