//! A web service receives a GeoJSON document (WGS84, as phones and RFC 7946 write it) in a
//! request body and stores it in the city's CGCS2000 3° Gauss-Krüger zone, CM 117E (EPSG:4548).
//!
//! Run: `cargo run --example geojson_in_memory --features formats`
//!
//! Everything except the coordinates is copied as it was (properties, ids, Chinese text); the
//! output gets GDAL's `crs` member naming EPSG:4548, and the report counts what was converted.

use geounify::convert::{geojson, ConvertOptions, ConvertReport};
use geounify::Transformer;
use std::error::Error;

/// A request body: two features, the second with a coordinate the transformer must refuse
/// (latitude beyond 90°: a client bug, e.g. swapped or garbled values).
const BODY: &str = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","id":"gate-1","properties":{"name":"天安门"},
  "geometry":{"type":"Point","coordinates":[116.404,39.915]}},
 {"type":"Feature","id":"bad-1","properties":{"name":"garbled"},
  "geometry":{"type":"Point","coordinates":[39.915,116.404]}}]}"#;

/// Converts one request body. Build the `Transformer` once at start-up and share it (`Send +
/// Sync`); here it is passed in. `skip_invalid` leaves out features with points that cannot be
/// converted and lists them in the report; without it one bad point rejects the whole body.
fn convert_body(t: &Transformer, body: &str) -> Result<(String, ConvertReport), Box<dyn Error>> {
    let options = ConvertOptions { skip_invalid: true, ..ConvertOptions::default() };
    // `ConvertError` says what failed and where (e.g. `<stream>: byte 57: expected ...`):
    // return it to the client as a 400 rather than panicking.
    let (text, report) = geojson::convert_str(body, t, &options)?;
    Ok((text, report))
}

fn main() -> Result<(), Box<dyn Error>> {
    let t = Transformer::from_ids("EPSG:4326", "EPSG:4548")?;
    let (text, report) = convert_body(&t, BODY)?;
    println!("{text}");
    eprintln!(
        "{} feature(s) read, {} written, {} vertices converted",
        report.features, report.written, report.vertices
    );
    for skipped in &report.skipped {
        eprintln!("left out: {}: {}", skipped.location, skipped.reason);
    }
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_the_body_against_proj() {
        let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
        let (text, report) = convert_body(&t, BODY).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let features = doc["features"].as_array().unwrap();
        assert_eq!((report.features, report.written, report.skipped.len()), (2, 1, 1));
        assert_eq!(features.len(), 1);
        assert_eq!(features[0]["properties"]["name"], "天安门");
        assert_eq!(doc["crs"]["properties"]["name"], "urn:ogc:def:crs:EPSG::4548");
        let xy = &features[0]["geometry"]["coordinates"];
        let (e, n) = (xy[0].as_f64().unwrap(), xy[1].as_f64().unwrap());
        // PROJ 9 (`cs2cs EPSG:4326 EPSG:4548`) gives 449042.047441, 4420261.219997, printed to
        // 1 µm; geounify agrees with PROJ to nanometres (README), so 1 µm is the print precision.
        assert!((e - 449_042.047_441).abs() < 1e-6, "easting {e}");
        assert!((n - 4_420_261.219_997).abs() < 1e-6, "northing {n}");
    }

    #[test]
    fn malformed_body_is_an_error_not_a_panic() {
        let t = Transformer::from_ids("EPSG:4326", "EPSG:4548").unwrap();
        assert!(convert_body(&t, r#"{"type":"FeatureCollection","features":[{"#).is_err());
    }
}
